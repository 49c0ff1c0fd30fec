import { ApiClient } from './lib/api';
import { LiveFeed } from './lib/live';

/** The customer app's API client and live activation feed (one of each per page). */
export const api = new ApiClient('simgate.token');
export const feed = new LiveFeed(() => api.eventsUrl());
