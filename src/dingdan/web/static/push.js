/* Dingdan web push, for the customer portal's pages: subscribe this browser to an order.
 *
 *   <script src="/static/app/push.js"></script>
 *   await DingdanPush.subscribeToOrder('DD2611110001', '13800138000');  // phone or email
 *   await DingdanPush.unsubscribe();
 *
 * Registers /sw.js, asks the server for its VAPID public key, subscribes with the browser's
 * push service and sends the subscription to /api/v1/push/subscriptions.
 */
(function (global) {
  'use strict';
  const API = '/api/v1/push';

  function keyBytes(base64url) {
    const padded = (base64url + '='.repeat((4 - (base64url.length % 4)) % 4))
      .replace(/-/g, '+').replace(/_/g, '/');
    const raw = global.atob(padded);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function supported() {
    return 'serviceWorker' in navigator && 'PushManager' in global && 'Notification' in global;
  }

  async function subscription() {
    const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    let sub = await registration.pushManager.getSubscription();
    if (!sub) {
      const answer = await fetch(API + '/vapid-public-key');
      if (!answer.ok) {
        throw new Error('web push is not set up on this server');
      }
      const { public_key: key } = await answer.json();
      sub = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key),
      });
    }
    return sub;
  }

  async function subscribeToOrder(orderNumber, contact) {
    if (!supported()) {
      throw new Error('this browser cannot receive web push');
    }
    if ((await Notification.requestPermission()) !== 'granted') {
      return false;
    }
    const sub = await subscription();
    const answer = await fetch(API + '/subscriptions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ subscription: sub.toJSON(), order_number: orderNumber, contact }),
    });
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({}));
      throw new Error(problem.detail || ('subscribe failed: ' + answer.status));
    }
    return true;
  }

  async function unsubscribe() {
    if (!supported()) {
      return false;
    }
    const registration = await navigator.serviceWorker.getRegistration('/');
    const sub = registration && await registration.pushManager.getSubscription();
    if (!sub) {
      return false;
    }
    await fetch(API + '/subscriptions?endpoint=' + encodeURIComponent(sub.endpoint),
                { method: 'DELETE' });
    return sub.unsubscribe();
  }

  global.DingdanPush = { supported, subscribeToOrder, unsubscribe };
})(window);
