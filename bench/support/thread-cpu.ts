/**
 * CPU time of the server's thread alone (Node 20 has no process.threadCpuUsage): utime + stime of the main thread
 * from /proc (Linux; undefined elsewhere). Beside the event-loop utilisation it tells a thread that computes from
 * one that is busy but waiting (blocked in a native call, or not given a core).
 */
import { readFileSync } from 'node:fs';

/** Milliseconds of CPU the main thread has used, or undefined where /proc is not there. */
export function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // USER_HZ is 100 on every Linux architecture Node runs on (it is fixed by the kernel's ABI, not by CONFIG_HZ).
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
