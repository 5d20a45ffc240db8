/** Cut a value shown back to the user to `max` characters (code points), marking the cut with "…". */
export function clipText(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max).join('')}…`;
}
