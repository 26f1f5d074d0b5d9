// Runs every benchmark in turn; each prints its own figures.
await import('./startup.js');
await import('./rtsp.js');
await import('./ota-download.js');
await import('./webrtc.js');
await import('./motion.js');
await import('./alarm-snapshot.js');
