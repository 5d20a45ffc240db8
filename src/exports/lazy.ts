/**
 * Import a heavy optional package when first needed. The specifier goes through a variable so
 * bundlers (the Worker build) leave the package out: only Node instances run exports.
 */
export async function lazyImport<T>(name: 'exceljs' | 'mysql2'): Promise<T> {
  const specifier: string = name;
  return (await import(specifier)) as T;
}
