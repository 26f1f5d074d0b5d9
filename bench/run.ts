// Runs every benchmark in turn; each prints its own figures.
await import('./startup.js');
