/**
 * The study model, shared by the dashboard, the REST API, import/export and the runtime.
 * Pure: no Svelte, no Bun, no database.
 */
export * from './schema';
export * from './validate';
export * from './hash';
export * from './defaults';
export * from './journey';
export * from './variants';
export * from './templates';
export * from './links';
export * from './av';
export * from './responses';
export * from './answers';
export * from './response-validation';
