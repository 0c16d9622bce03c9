export * from './access';
export * from './contacts';
export * from './companies';
export * from './tracking';
export * from './scoring';
export * from './widgets';
export * from './email';
export * from './email-tracking';
