import { ApiClient } from '../../web/src/lib/api';

/** The admin panel keeps its own session, separate from a customer session in the same browser. */
export const api = new ApiClient('simgate.admin.token');

export const ADMIN_REQUIRED = 'Admin access required. Sign in with an admin account.';
export const isAdmin = (user: { role: string }) => user.role.toUpperCase() === 'ADMIN';
