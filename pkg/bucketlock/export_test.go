package bucketlock

// HostID is this machine's digest, for a test to write a lock of this machine.
var HostID = hostID
