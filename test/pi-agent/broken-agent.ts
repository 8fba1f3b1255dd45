/**
 * Entry point of a release that cannot start at all, for the launcher's rollback test: it throws as
 * it loads, before the agent (and so its updater and connect deadline) exists, as a syntax error, a
 * missing module or a crash at start-up would. Bundled by pi-agent/build.ts like main.ts.
 */
throw new Error("this release is broken on purpose: it throws as it loads");
