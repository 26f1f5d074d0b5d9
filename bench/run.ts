// Runs every benchmark in turn; each prints its own figures.
await import('./startup.js');
await import('./rtsp.js');
await import('./rtsp-fanout.js');
await import('./rtsp-flood.js');
await import('./ota-download.js');
await import('./webrtc.js');
await import('./motion.js');
await import('./alarm-snapshot.js');
await import('./softap.js');
await import('./onvif.js');
await import('./recording.js');
await import('./recording-cost.js');
await import('./playback.js');
