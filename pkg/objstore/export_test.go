package objstore

// SetListPageSize makes c's List ask for pages of n keys, so a test sees pagination with a few
// objects.
func (c *Client) SetListPageSize(n int32) { c.pageSize = n }

// PartSizeFor is the part size Put uses for a body of size bytes with parts of base bytes.
var PartSizeFor = partSizeFor
