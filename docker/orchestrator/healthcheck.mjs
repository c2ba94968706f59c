#!/usr/bin/env node
// Container healthcheck of the differad image (no curl in the slim base image):
// with DIFFERAD_HEALTH_URL set, that URL must answer 2xx within 4 s; without it
// (a queue worker serves no HTTP) Redis at DIFFERAD_REDIS_URL must answer PING.
/* global fetch, AbortSignal */
import { connect } from 'node:net';

const DEADLINE_MS = 4000;

function checkUrl(url) {
  return fetch(url, { signal: AbortSignal.timeout(DEADLINE_MS) }).then((res) => res.ok);
}

function checkRedis(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(DEADLINE_MS, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

const target = process.env.DIFFERAD_HEALTH_URL;
const ok = await (target ? checkUrl(target) : checkRedis(process.env.DIFFERAD_REDIS_URL ?? 'redis://redis:6379')).catch(() => false);
process.exit(ok ? 0 : 1);
