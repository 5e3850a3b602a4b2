// Shared by the Node judges: one line per check (`ok    …` / `FAIL  …`), the count at the end
// and the exit code, and a scratch folder that is removed however the judge ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const tally = { passed: 0, failed: 0 };

/** One check: `ok` when `condition` holds, else `FAIL` with `detail`. */
export function check(name, condition, detail = "") {
  if (condition) {
    tally.passed += 1;
    console.log(`ok    ${name}`);
  } else {
    tally.failed += 1;
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ""}`);
  }
}

/** A check that `got` equals `want` (as JSON). */
export function equal(name, got, want) {
  const same = JSON.stringify(got) === JSON.stringify(want);
  check(name, same, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

/** Print the count and exit: 0 when every check passed. */
export function finish() {
  console.log(`\n${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed === 0 ? 0 : 1);
}

/** A private temporary folder, removed when the process exits, by an interrupt too. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
  }
  return dir;
}
