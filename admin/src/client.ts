import { ApiClient } from '../../ui/api';

export const ADMIN_REQUIRED = 'Admin access required. Sign in with an admin account.';
export const isAdmin = (user: { role: string }) => user.role.toUpperCase() === 'ADMIN';

/**
 * The admin panel keeps its own access token, separate from a customer session in the same
 * browser. The refresh cookie is per origin, though: if a customer signed in here since, a
 * refresh would bring back the customer's session, which the panel refuses (sign in again).
 */
export const api = new ApiClient('simgate.admin.token', { acceptUser: isAdmin });
