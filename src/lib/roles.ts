/** Roles in ascending order of power: viewer < operator < admin. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` is at least `need` in viewer < operator < admin. */
export function hasRole(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who is running a command or calling an API, with the role that decides what they may do. */
export interface Caller {
  /** Stable identity: the staff id, `token:<name>` for webhooks, `cli:<user>` locally. */
  key: string;
  staffId?: string;
  nick?: string;
  role: Role;
}
