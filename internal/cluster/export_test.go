package cluster

// SetPageSize sets the page size of Snapshot's lists until the returned
// function is called.
func SetPageSize(n int64) (restore func()) {
	old := snapshotPageSize
	snapshotPageSize = n
	return func() { snapshotPageSize = old }
}
