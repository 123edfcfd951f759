/**
 * The Socket.IO baseline for `bun run bench:realtime`: a room server built the way HyperStudy
 * builds one — Node, Socket.IO rooms, the Redis adapter for fan-out between servers — with the
 * same message pattern as Ensemble's realtime protocol:
 *
 * - `join {room, actor}` (acked): joins the Socket.IO room, then presence goes to the room;
 * - `command {id, name, payload}` (acked): one single-row INSERT into Postgres, then
 *   `io.to(room).emit('event', …)` (every member, the sender included), then the ack;
 * - `ephemeral {kind, data}`: `socket.to(room).emit('ephemeral', …)` (everyone but the sender);
 * - `clock {id, t0}` (acked): the clock-sync ping, answered through the ack callback.
 *
 * Not part of the app: nothing imports it. Run by bench/realtime.ts as
 *
 *   PORT=… DATABASE_URL=… REDIS_URL=… node bench/socketio-server.js
 *
 * and stopped with SIGTERM. GET /healthz answers 200 once Postgres and Redis are reachable.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 3100);
const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (!databaseUrl || !redisUrl) {
	console.error('socketio-server: DATABASE_URL and REDIS_URL are required');
	process.exit(1);
}

// The same pool size as Ensemble's postgres.js client (src/lib/server/db/open.ts).
const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} });
// The unique key mirrors Ensemble's idempotency key (actor, client command id) so both servers
// maintain the same indexes per durable command.
await sql`
	create table if not exists room_events (
		id bigserial primary key,
		room text not null,
		at timestamptz not null default now(),
		actor text not null,
		name text not null,
		payload jsonb not null,
		client_id text not null,
		unique (room, actor, client_id)
	)`;

const pubClient = new Redis(redisUrl);
const subClient = pubClient.duplicate();
await Promise.all([pubClient.ping(), subClient.ping()]);

const http = createServer((request, response) => {
	response.writeHead(request.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
	response.end(request.url === '/healthz' ? 'ok' : 'not found');
});

const io = new Server(http, {
	transports: ['websocket'],
	perMessageDeflate: false,
	serveClient: false,
	adapter: createAdapter(pubClient, subClient)
});

/** Actors connected to this server, per room (presence). */
const members = new Map();

function publishPresence(room) {
	const actors = [...(members.get(room)?.keys() ?? [])].sort();
	io.to(room).emit('presence', { actors });
}

function addMember(room, actor) {
	let actors = members.get(room);
	if (!actors) members.set(room, (actors = new Map()));
	actors.set(actor, (actors.get(actor) ?? 0) + 1);
}

function removeMember(room, actor) {
	const actors = members.get(room);
	if (!actors) return;
	const remaining = (actors.get(actor) ?? 1) - 1;
	if (remaining > 0) actors.set(actor, remaining);
	else actors.delete(actor);
	if (actors.size === 0) members.delete(room);
}

io.on('connection', (socket) => {
	socket.on('join', async (message, ack) => {
		if (socket.data.room || typeof message?.room !== 'string') {
			if (typeof ack === 'function') ack({ ok: false });
			return;
		}
		socket.data.room = message.room;
		socket.data.actor = String(message.actor ?? socket.id);
		await socket.join(message.room);
		addMember(message.room, socket.data.actor);
		publishPresence(message.room);
		if (typeof ack === 'function') ack({ ok: true, serverTime: Date.now() });
	});

	socket.on('command', async (message, ack) => {
		const { room, actor } = socket.data;
		if (!room || typeof ack !== 'function') return;
		try {
			const payload = message.payload ?? null;
			const [row] = await sql`
				insert into room_events (room, actor, name, payload, client_id)
				values (${room}, ${actor}, 'chat.sent', ${sql.json(payload)}, ${message.id})
				returning id, at`;
			const seq = Number(row.id);
			io.to(room).emit('event', {
				seq,
				at: row.at.getTime(),
				actor,
				name: 'chat.sent',
				payload,
				cid: message.id
			});
			ack({ ok: true, seq });
		} catch (error) {
			ack({ ok: false, message: error instanceof Error ? error.message : String(error) });
		}
	});

	socket.on('ephemeral', (message) => {
		const { room, actor } = socket.data;
		if (!room) return;
		socket.to(room).emit('ephemeral', { from: actor, kind: message?.kind, data: message?.data });
	});

	socket.on('clock', (message, ack) => {
		const t1 = performance.timeOrigin + performance.now();
		if (typeof ack === 'function')
			ack({ id: message?.id, t0: message?.t0, t1, t2: performance.timeOrigin + performance.now() });
	});

	socket.on('disconnect', () => {
		const { room, actor } = socket.data;
		if (!room) return;
		removeMember(room, actor);
		publishPresence(room);
	});
});

http.listen(port, '127.0.0.1', () => console.log(`socketio-server listening on ${port}`));

let stopping = false;
async function shutdown() {
	if (stopping) return;
	stopping = true;
	io.close();
	await Promise.allSettled([sql.end({ timeout: 2 }), pubClient.quit(), subClient.quit()]);
	process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
