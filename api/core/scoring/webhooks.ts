// Trigger and campaign webhook actions are queued as webhook_deliveries rows (scoring/actions.ts)
// and sent by the one webhook sender, with the subscriptions' deliveries: core/webhooks/.
export { runWebhooks, signWebhook } from '../webhooks/deliver';
export { listDeliveries, retryDelivery } from '../webhooks/log';
