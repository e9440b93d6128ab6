/**
 * `npm run bench:kills`: the self-hosted server under load while its workers are killed (#12).
 *
 * 8 connections POST grace_hopper.jpg for 60 s; 10 times, at a random moment, a random worker
 * (whatever its state) gets SIGKILL. Figures, each with its target:
 *   - every request sent is answered: a 200, or an error with a JSON body (each status counted);
 *     none hangs past the server's deadline, no connection is dropped;
 *   - after each kill, the pool is back to full strength (every worker ready) within 2 s,
 *     timed from the kill to the pool's ready count being full again (the max is printed).
 *
 * `--quick`: 12 s and 3 kills, to show the script works; figures are taken on a quiet machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverConfig } from '../handlers/server/config.js';
import { startServer } from '../handlers/server/server.js';
import { sharedDataDir } from '../src/store/paths.js';
import { cpuFacts } from '../src/util/cpu.js';
import { allMet, atMost, exactly, type Figure, figureRows, judged } from './figures.js';
import { publish, publishing } from './publish.js';
import { round, table } from './stats.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 12 : 60;
const KILLS = quick ? 3 : 10;
const CONNECTIONS = 8;
const RECOVERY_TARGET_MS = 2000;
const GIVE_UP_MS = 30_000;
/** A request unanswered this long after the server's own deadline counts as hung. */
const HANG_MARGIN_MS = 5000;

const photo = readFileSync(join(sharedDataDir(), 'images', 'grace_hopper.jpg'));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Tally {
  readonly statuses: Map<string, number>;
  /** Non-200 answers without a JSON error body: not a clear error. */
  unclear: number;
  /** Connection errors: the request got no HTTP answer at all. */
  dropped: number;
  /** No answer by the deadline plus a margin. */
  hung: number;
}

/** One connection's loop: POST, wait for the answer, count it, repeat until `until`. */
async function connection(url: string, until: number, deadlineMs: number, tally: Tally): Promise<void> {
  while (Date.now() < until) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo,
        signal: AbortSignal.timeout(deadlineMs + HANG_MARGIN_MS),
      });
      const body = await response.text();
      let key = String(response.status);
      if (response.status !== 200) {
        try {
          key += ` ${(JSON.parse(body) as { error: { code: string } }).error.code}`;
        } catch {
          tally.unclear++;
        }
      }
      tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') tally.hung++;
      else tally.dropped++;
    }
  }
}

interface Kill {
  readonly atSeconds: number;
  readonly pid: number;
  readonly recoveryMs: number;
}

/** Kills a random worker; resolves with the time until the pool has noticed and is full again. */
async function killOne(pool: Awaited<ReturnType<typeof startServer>>['pool'], begun: number): Promise<Kill> {
  const pids = pool.pids;
  const pid = pids[Math.floor(Math.random() * pids.length)] as number;
  const killed = performance.now();
  process.kill(pid, 'SIGKILL');
  // Until the pool has seen the exit its count still includes the victim: wait for both.
  // A pool that never recovers is recorded as such (Infinity), not waited on forever.
  while (pool.pids.includes(pid) || pool.readyWorkers < pool.size) {
    if (performance.now() - killed > GIVE_UP_MS) {
      return { atSeconds: round((killed - begun) / 1000), pid, recoveryMs: Number.POSITIVE_INFINITY };
    }
    await sleep(2);
  }
  return {
    atSeconds: round((killed - begun) / 1000),
    pid,
    recoveryMs: round(performance.now() - killed),
  };
}

/** One kill at a random moment in each of KILLS equal windows, so recoveries can be told apart. */
async function killAtRandomMoments(pool: Parameters<typeof killOne>[0], begun: number): Promise<Kill[]> {
  const window = (SECONDS * 1000) / KILLS;
  const kills: Kill[] = [];
  for (let i = 0; i < KILLS; i++) {
    const at = i * window + window * (0.1 + 0.7 * Math.random());
    await sleep(Math.max(0, at - (performance.now() - begun)));
    const kill = await killOne(pool, begun);
    kills.push(kill);
    console.log(
      `kill ${i + 1} at ${kill.atSeconds} s: pid ${kill.pid}; full strength again in ${kill.recoveryMs} ms`,
    );
  }
  return kills;
}

function publishKills(
  figures: readonly Figure[],
  tally: Tally,
  kills: readonly Kill[],
  answers: string,
): void {
  const file = publish({
    name: 'worker-kills',
    title: `Worker kills under load: ${KILLS} kills in ${SECONDS} s at ${CONNECTIONS} connections`,
    figures,
    sections: [
      {
        text: `Requests not answered: hung ${tally.hung}, dropped ${tally.dropped}, unclear ${tally.unclear}.`,
      },
      {
        heading: 'Each kill',
        rows: kills.map((kill, i) => ({
          kill: i + 1,
          'at s': kill.atSeconds,
          'full strength again after ms': kill.recoveryMs,
        })),
      },
      { text: answers },
    ],
  });
  console.log(`\nwrote ${file}`);
}

async function main(): Promise<void> {
  const cpu = cpuFacts();
  console.log(
    `CPU: ${cpu.model} (${cpu.cores} cores, ${cpu.arch}); flags: ${cpu.flags.join(' ') || '(none)'}`,
  );
  const config = serverConfig({ port: '0' }, {});
  const exits: Record<string, unknown>[] = [];
  const server = await startServer(config, (event) => {
    if (event.level === 'warn' || event.level === 'error') exits.push(event);
  });
  try {
    await server.ready;
    console.log(
      `server: ${server.pool.size} workers, timeout ${config.timeoutMs} ms; ${CONNECTIONS} connections for ${SECONDS} s, ${KILLS} kills${quick ? ' (--quick)' : ''}`,
    );
    const tally: Tally = { statuses: new Map(), unclear: 0, dropped: 0, hung: 0 };
    const begun = performance.now();
    const until = Date.now() + SECONDS * 1000;
    const load = Promise.all(
      Array.from({ length: CONNECTIONS }, () =>
        connection(`${server.url}/classify`, until, config.timeoutMs, tally),
      ),
    );
    const kills = await killAtRandomMoments(server.pool, begun);
    await load;

    const answered = [...tally.statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${answered} answers: ${[...tally.statuses].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    console.log(`server warnings and errors logged: ${exits.length}`);
    const maxRecovery = Math.max(...kills.map((k) => k.recoveryMs));
    const notAnswered = tally.hung + tally.dropped + tally.unclear;
    const figures = [
      judged('requests not answered (hung, dropped, or no JSON error)', notAnswered, '', exactly(0)),
      judged(`kill to full strength, max over ${KILLS} kills`, maxRecovery, 'ms', atMost(RECOVERY_TARGET_MS)),
    ];
    console.log(`\n${table(figureRows(figures))}`);
    console.log(`not answered: hung ${tally.hung}, dropped ${tally.dropped}, unclear ${tally.unclear}`);
    if (publishing())
      publishKills(
        figures,
        tally,
        kills,
        `${answered} answers: ${[...tally.statuses].map(([k, n]) => `${k}: ${n}`).join(', ')}. Server: ${server.pool.size} workers, timeout ${config.timeoutMs} ms.`,
      );
    if (!allMet(figures)) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

await main();
