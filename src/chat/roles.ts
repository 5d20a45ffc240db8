import type { Config } from '../config';
import type { Role } from '../lib/roles';

export { hasRole } from '../lib/roles';
/** The role of a DingTalk user: ADMIN_STAFF_IDS, then OPERATOR_STAFF_IDS, else DEFAULT_ROLE. */
export function roleForStaff(config: Pick<Config, 'ADMIN_STAFF_IDS' | 'OPERATOR_STAFF_IDS' | 'DEFAULT_ROLE'>, staffId?: string): Role {
  if (staffId && config.ADMIN_STAFF_IDS.includes(staffId)) return 'admin';
  if (staffId && config.OPERATOR_STAFF_IDS.includes(staffId)) return 'operator';
  return config.DEFAULT_ROLE;
}
