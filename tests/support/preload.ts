// Quiet the app's info logs in tests; failures still print warnings and errors.
process.env.LOG_LEVEL ??= 'warn';
