import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations for src/db/schema.ts into drizzle/;
// the server applies them at start-up (src/db/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
