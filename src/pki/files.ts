/**
 * File handling for certificates and keys: every file is written to a temporary name in the same directory, given
 * its exact mode, flushed and then renamed over the target. A reader therefore never sees half a key, a key is
 * never readable by others even for an instant, and a read-only (0400) key from an earlier run is replaced
 * without having to make it writable first (rename needs write permission on the directory, not on the file).
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Private keys in a directory only the server's user reads. */
export const PRIVATE_KEY_MODE = 0o600;
/**
 * Keys handed to a client. Exactly 0400: OpenStack Barbican's KMIP plugin refuses a key file with any other mode
 * (`_validate_keyfile_permissions` in barbican/plugin/kmip_secret_store.py requires st_mode == S_IFREG | S_IRUSR:
 * a regular file, 0400, no sticky or set-id bits), and read-only for the owner alone is a sound default anyway.
 */
export const CLIENT_KEY_MODE = 0o400;
/** Certificates are public. */
export const CERTIFICATE_MODE = 0o644;
/** The lab PKI directory holds the CA's private key: owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** Writes `data` to `path` with exactly `mode`, atomically (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': never follow or reuse something already at the temporary name. The creation mode is masked by the
  // umask, so the exact mode is set with fchmod before any byte is written.
  const handle = await open(temporary, 'wx', mode & 0o600);
  try {
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Creates `dir` (and its parents) if needed and gives `dir` itself exactly `mode`. */
export async function ensureDirectory(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const info = await lstat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a directory`);
  // mkdir leaves an existing directory's mode alone and masks a new one's with the umask.
  if ((info.mode & 0o777) !== mode) await chmod(dir, mode);
}

/** The file's contents, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Names that become file names (a client's CN becomes OUTDIR/<cn>.pem): letters, digits and `._@-`, starting with
 * a letter or digit (no hidden files, nothing that looks like an option), at most 64 characters (the upper bound
 * of a commonName, RFC 5280 Appendix A `ub-common-name`). No path separator, so no way out of the directory.
 */
const SAFE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Why `name` cannot be used as a file name, or undefined when it can. */
export function unsafeFileNameReason(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
  if (name.includes('..')) return "it contains '..'";
  if (!SAFE_FILE_NAME.test(name)) {
    return 'only letters, digits and . _ @ - are allowed, starting with a letter or digit, at most 64 characters';
  }
  return undefined;
}
