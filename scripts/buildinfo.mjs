// Writes dist/buildinfo.json (version and git commit) for `tortie version`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

let gitCommit = 'unknown';
try {
  gitCommit = execFileSync('git', ['rev-parse', '--short=8', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {}
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
mkdirSync('dist', { recursive: true });
writeFileSync('dist/buildinfo.json', JSON.stringify({ version, gitCommit }) + '\n');
