-- pgbench script: the bare-SQL equivalent of ONE `POST /api/v1/orders` in Dingdan, against
-- Dingdan's own schema (bench/populate.py), statement for statement and round trip for round
-- trip, as captured with DINGDAN_ECHO_SQL=1 (see bench/README.md):
--
--   place_order (one transaction)
--     SELECT by Idempotency-Key; SELECT the 3 products; SELECT the active warehouses with
--     their available stock of the 3 SKUs; 3 conditional reservation UPDATEs in SKU order;
--     INSERT the order RETURNING id; INSERT the 3 lines (Dingdan: one pipelined executemany);
--     INSERT the order.placed event; INSERT the outbox row; INSERT the audit row;
--     read the order back for the response (SELECT the
--     order joined to its warehouse, SELECT its lines); COMMIT
--
--   pgbench -n -M prepared -c 8 -j 2 -T 20 -f bench/dingdan_intake.sql dingdan_bench
--
-- Prices and names follow bench/populate.py (price = 100 + (n * 37) % 9900), so the amounts are
-- the ones Dingdan computes from the catalogue in Python. Reservations go to warehouse 1 (SH,
-- the highest priority, where Dingdan sends every order while stock is ample). Stock is ample,
-- so every reservation succeeds; the run's post-check verifies reserved <= on_hand.
\set k1 random(1, 10000)
\set k2 random(1, 10000)
\set k3 random(1, 10000)
\set ka least(:k1, :k2, :k3)
\set kc greatest(:k1, :k2, :k3)
\set kb :k1 + :k2 + :k3 - :ka - :kc
\set qa random(1, 3)
\set qb random(1, 3)
\set qc random(1, 3)
\set pa 100 + (:ka * 37) % 9900
\set pb 100 + (:kb * 37) % 9900
\set pc 100 + (:kc * 37) % 9900
\set subtotal :pa * :qa + :pb * :qb + :pc * :qc
\set r random(1, 9000000000000000000)
BEGIN;
SELECT orders.number, orders.request_hash FROM orders
 WHERE orders.idempotency_key = 'pgbench-' || :r::text LIMIT 1;
SELECT products.sku, products.name, products.price, products.active FROM products
 WHERE products.sku IN ('SKU-' || lpad(:ka::text, 5, '0'), 'SKU-' || lpad(:kb::text, 5, '0'),
                        'SKU-' || lpad(:kc::text, 5, '0'));
SELECT warehouses.id, warehouses.code, warehouses.priority, stock.sku,
       stock.on_hand - stock.reserved AS anon_1
  FROM warehouses LEFT OUTER JOIN stock ON stock.warehouse_id = warehouses.id
   AND stock.sku IN ('SKU-' || lpad(:ka::text, 5, '0'), 'SKU-' || lpad(:kb::text, 5, '0'),
                     'SKU-' || lpad(:kc::text, 5, '0'))
 WHERE warehouses.active IS true;
UPDATE stock SET reserved = stock.reserved + :qa, updated_at = now()
 WHERE stock.sku = 'SKU-' || lpad(:ka::text, 5, '0') AND stock.warehouse_id = 1
   AND stock.on_hand - stock.reserved >= :qa;
UPDATE stock SET reserved = stock.reserved + :qb, updated_at = now()
 WHERE stock.sku = 'SKU-' || lpad(:kb::text, 5, '0') AND stock.warehouse_id = 1
   AND stock.on_hand - stock.reserved >= :qb;
UPDATE stock SET reserved = stock.reserved + :qc, updated_at = now()
 WHERE stock.sku = 'SKU-' || lpad(:kc::text, 5, '0') AND stock.warehouse_id = 1
   AND stock.on_hand - stock.reserved >= :qc;
INSERT INTO orders (number, channel, external_id, idempotency_key, request_hash, status,
  payment_status, fulfillment_status, customer_name, customer_company, customer_phone,
  customer_email, ship_recipient, ship_phone, ship_country, ship_province, ship_city,
  ship_district, ship_street, ship_postcode, warehouse_id, currency, subtotal, shipping_fee,
  discount, tax, total, payment_method, promo_code, placed_at, ship_by, deliver_by, notes, tags,
  custom_fields, version, created_at, updated_at)
VALUES ('PB' || :r::text, 'api', NULL, 'pgbench-' || :r::text,
  'f2a3e71a4b308c5d8fcece5703f83231d6def8493b8b278378580a7b23919c5b', 'pending_payment',
  'unpaid', 'unfulfilled', '张伟', NULL, '+8613800138000', 'zhang.wei@example.com', '张伟',
  '+8613800138000', 'CN', '上海市', '上海市', '浦东新区', '世纪大道 100 号', '200120', 1, 'CNY',
  :subtotal, 0, 0, 0, :subtotal, 'alipay', NULL, now(), NULL, NULL, NULL, '[]', '{}', 1, now(),
  now())
RETURNING orders.id AS order_id \gset
INSERT INTO order_lines (order_id, line_no, sku, name, model, quantity, unit_price, warehouse_id)
VALUES (:order_id, 1, 'SKU-' || lpad(:ka::text, 5, '0'), '商品 ' || :ka::text || ' 号', NULL,
        :qa, :pa, 1),
       (:order_id, 2, 'SKU-' || lpad(:kb::text, 5, '0'), '商品 ' || :kb::text || ' 号', NULL,
        :qb, :pb, 1),
       (:order_id, 3, 'SKU-' || lpad(:kc::text, 5, '0'), '商品 ' || :kc::text || ' 号', NULL,
        :qc, :pc, 1);
INSERT INTO order_events (event_id, order_id, type, from_status, to_status, actor, source,
  reason, data, created_at)
VALUES (gen_random_uuid()::text, :order_id, 'order.placed', NULL, 'pending_payment',
  E'token\x3abench', 'api', NULL,
  jsonb_build_object('warehouse', 'SH', 'lines', jsonb_build_array(
    jsonb_build_object('sku', 'SKU-' || lpad(:ka::text, 5, '0'), 'quantity', :qa::int),
    jsonb_build_object('sku', 'SKU-' || lpad(:kb::text, 5, '0'), 'quantity', :qb::int),
    jsonb_build_object('sku', 'SKU-' || lpad(:kc::text, 5, '0'), 'quantity', :qc::int))),
  now());
INSERT INTO outbox (event_id, type, order_number, payload, created_at)
VALUES (gen_random_uuid()::text, 'order.placed', 'PB' || :r::text, jsonb_build_object(
  'event_id', gen_random_uuid()::text, 'type', 'order.placed', 'occurred_at', now()::text,
  'order_number', 'PB' || :r::text, 'from_status', NULL, 'to_status', 'pending_payment',
  'actor', E'token\x3abench', 'reason', NULL,
  'data', jsonb_build_object('warehouse', 'SH', 'lines', jsonb_build_array(
    jsonb_build_object('sku', 'SKU-' || lpad(:ka::text, 5, '0'), 'quantity', :qa::int),
    jsonb_build_object('sku', 'SKU-' || lpad(:kb::text, 5, '0'), 'quantity', :qb::int),
    jsonb_build_object('sku', 'SKU-' || lpad(:kc::text, 5, '0'), 'quantity', :qc::int))),
  'order', jsonb_build_object('number', 'PB' || :r::text, 'status', 'pending_payment',
    'payment_status', 'unpaid', 'fulfillment_status', 'unfulfilled', 'channel', 'api',
    'external_id', NULL, 'total', :subtotal::bigint, 'currency', 'CNY',
    'customer', jsonb_build_object('name', '张伟', 'phone', '+8613800138000',
                                   'email', 'zhang.wei@example.com'),
    'carrier', NULL, 'tracking_number', NULL, 'version', 1)),
  now());
INSERT INTO audit_log (at, actor, actor_kind, actor_id, user_id, roles, source, ip, client,
  action, object_type, object_id, before, after)
VALUES (now(), E'token\x3abench', 'token', '1',
  (SELECT api_tokens.user_id FROM api_tokens WHERE api_tokens.id = 1), '["integration"]', 'api',
  '127.0.0.1', NULL, 'order.place', 'order', 'PB' || :r::text, 'null',
  jsonb_build_object('status', 'pending_payment', 'channel', 'api', 'external_id', NULL,
    'warehouse', 'SH', 'currency', 'CNY', 'total', :subtotal::bigint,
    'lines', jsonb_build_array(
      jsonb_build_object('sku', 'SKU-' || lpad(:ka::text, 5, '0'), 'quantity', :qa::int,
                         'unit_price', :pa::int),
      jsonb_build_object('sku', 'SKU-' || lpad(:kb::text, 5, '0'), 'quantity', :qb::int,
                         'unit_price', :pb::int),
      jsonb_build_object('sku', 'SKU-' || lpad(:kc::text, 5, '0'), 'quantity', :qc::int,
                         'unit_price', :pc::int))));
SELECT orders.*, warehouses.code AS warehouse_code
  FROM orders LEFT OUTER JOIN warehouses ON warehouses.id = orders.warehouse_id
 WHERE orders.number = 'PB' || :r::text;
SELECT order_lines.* FROM order_lines WHERE order_lines.order_id = :order_id
 ORDER BY order_lines.line_no;
COMMIT;
