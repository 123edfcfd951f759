/** The panels the editor's header opens above the workspace. */
export type DesignerPanel = 'publish' | 'sharing' | 'history';
