export * from './users';
export * from './sessions';
export * from './invites';
export * from './rooms';
