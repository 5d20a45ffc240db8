/** One order line: `A001*2` is sku A001, quantity 2. */
export interface ItemSpec {
  sku: string;
  quantity: number;
}

/** Everything needed to render a push's messages again, identically: kept in the job payload. */
export interface PushSpec {
  type: string;
  queue: string;
  count: number;
  /** JSON path -> value, already typed like the preset's default at that path. */
  overrides: Record<string, string | number | boolean>;
  items: ItemSpec[];
}
