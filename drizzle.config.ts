import { defineConfig } from 'drizzle-kit';

// Only used by `bun run db:generate`; the app applies the generated SQL itself at boot.
export default defineConfig({
	dialect: 'postgresql',
	schema: './src/lib/server/db/schema/index.ts',
	out: './drizzle'
});
