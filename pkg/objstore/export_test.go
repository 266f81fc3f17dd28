package objstore

// SetListPageSize makes List ask for pages of n keys, so a test sees pagination with a few objects.
func SetListPageSize(n int32) func() {
	old := listPageSize
	listPageSize = n
	return func() { listPageSize = old }
}
