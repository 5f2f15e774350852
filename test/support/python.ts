import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Python, where python3-pykmip and python3-barbican live (not a pyenv shim). */
export const debianPython = '/usr/bin/python3';

/** Why the Python interop tests cannot run here, or undefined when they can. */
export function pythonMissing(modules: readonly string[]): Promise<string | undefined> {
  if (!existsSync(debianPython)) return Promise.resolve(`${debianPython} is absent`);
  return new Promise((resolve) => {
    execFile(debianPython, ['-c', modules.map((m) => `import ${m}`).join('; ')], (error) => {
      resolve(
        error ? `${modules.join(', ')} not importable by ${debianPython} (run npm run setup)` : undefined,
      );
    });
  });
}

/** Runs a Python script and parses the JSON it prints last. */
export function runPythonJson<T>(script: string, args: readonly string[], timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      debianPython,
      [script, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} failed: ${error.message}\n${stderr}`));
          return;
        }
        const last = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${script} printed no JSON:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}
