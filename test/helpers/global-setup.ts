import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client';
import { migrateDb } from '../../src/db/migrate';
import { pgUrl, withAdmin } from './pg';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
  }
}

/**
 * Once per run: a migrated template database on the real Postgres. Each test file clones it
 * (CREATE DATABASE … TEMPLATE), so files are isolated and migrations run once.
 */
export default async function setup(project: TestProject) {
  const template = `chatops_tpl_${process.pid}`;
  await withAdmin(async (sql) => {
    await sql.unsafe(`drop database if exists ${template}`);
    await sql.unsafe(`create database ${template}`);
  });
  const db = await createDb({ url: pgUrl(template), poolSize: 1 });
  await migrateDb(db);
  await db.close();
  project.provide('pgTemplate', template);
  return async () => {
    await withAdmin((sql) => sql.unsafe(`drop database if exists ${template} with (force)`));
  };
}
