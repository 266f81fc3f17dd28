package objstore

// SetListPageSize makes c's List ask for pages of n keys, so a test sees pagination with a few
// objects.
func (c *Client) SetListPageSize(n int32) { c.pageSize = n }
