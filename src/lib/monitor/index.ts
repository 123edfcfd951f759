/**
 * The live study monitor, pure and isomorphic: the wire contract, the fold of a watched room
 * into a dashboard summary, members' latest quality, and the dashboard's fold of the frames.
 */
export * from './protocol';
export * from './quality';
export * from './room';
export * from './view';
