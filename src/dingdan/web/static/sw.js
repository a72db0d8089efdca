/* Dingdan service worker: shows order notifications sent by web push.
 *
 * Served at /sw.js (scope "/"). The server encrypts each message for this browser's
 * subscription (RFC 8291); the browser decrypts it and hands this worker the JSON payload:
 *   {"event_id": "…", "type": "order.shipped", "title": "…", "body": "…",
 *    "url": "/portal/orders/DD…", "tag": "DD…", "data": {…}}
 * No script, font or image is loaded from anywhere else.
 */
'use strict';

self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

function readPayload(event) {
  if (!event.data) {
    return {};
  }
  try {
    return event.data.json();
  } catch (e) {
    return { body: event.data.text() };
  }
}

self.addEventListener('push', (event) => {
  const msg = readPayload(event);
  const title = msg.title || 'Dingdan 订单';
  const options = {
    body: msg.body || '',
    // One notification per order: a newer status replaces the older one.
    tag: msg.tag || msg.event_id || undefined,
    renotify: Boolean(msg.tag),
    timestamp: Date.now(),
    data: { url: msg.url || '/', eventId: msg.event_id || null, type: msg.type || null },
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || '/',
                         self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === target && 'focus' in client) {
        return client.focus();
      }
    }
    return self.clients.openWindow ? self.clients.openWindow(target) : undefined;
  })());
});
