export * from './users';
export * from './sessions';
export * from './invites';
export * from './rooms';
export * from './studies';
export * from './media';
export * from './api-tokens';
export * from './participants';
