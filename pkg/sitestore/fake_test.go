package sitestore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// fakeStore is an in-memory bucket for the unit tests of planning, ordering and locking: it
// honours conditional writes (unless ignoreConditions) and logs every write. The end-to-end
// tests (pkg/cli) use a real server.
type fakeStore struct {
	mu               sync.Mutex
	objs             map[string]fakeObject
	log              []string // "PUT key", "DELETE key"
	heads            int
	ignoreConditions bool
	afterPut         func(key string) // called (without the lock) after each Put
}

type fakeObject struct {
	data         []byte
	etag         string
	ctype, cache string
	meta         map[string]string
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{objs: map[string]fakeObject{}} }

func (s *fakeStore) Put(_ context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return objstore.Object{}, err
	}
	s.mu.Lock()
	old, exists := s.objs[key]
	if !s.ignoreConditions {
		if opt.IfNoneMatch && exists || opt.IfMatch != "" && (!exists || old.etag != opt.IfMatch) {
			s.mu.Unlock()
			return objstore.Object{}, &objstore.Error{Op: "put", Bucket: bucket, Key: key, Kind: objstore.ErrPrecondition}
		}
	}
	sum := md5.Sum(b)
	o := fakeObject{data: b, etag: `"` + hex.EncodeToString(sum[:]) + `"`, ctype: opt.ContentType, cache: opt.CacheControl, meta: maps.Clone(opt.Metadata)}
	s.objs[key] = o
	s.log = append(s.log, "PUT "+key)
	after := s.afterPut
	s.mu.Unlock()
	if after != nil {
		after(key)
	}
	sha := sha256.Sum256(b)
	return objstore.Object{Key: key, Size: int64(len(b)), ETag: o.etag, SHA256: hex.EncodeToString(sha[:])}, nil
}

func (s *fakeStore) set(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := md5.Sum(data)
	s.objs[key] = fakeObject{data: data, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

func (s *fakeStore) info(key string, o fakeObject) objstore.Object {
	return objstore.Object{Key: key, Size: int64(len(o.data)), ETag: o.etag, ContentType: o.ctype, CacheControl: o.cache, Metadata: o.meta}
}

func (s *fakeStore) Get(_ context.Context, bucket, key string, _ *objstore.Range) (io.ReadCloser, objstore.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objs[key]
	if !ok {
		return nil, objstore.Object{}, &objstore.Error{Op: "get", Bucket: bucket, Key: key, Kind: objstore.ErrNotFound}
	}
	return io.NopCloser(bytes.NewReader(o.data)), s.info(key, o), nil
}

func (s *fakeStore) Head(_ context.Context, bucket, key string) (objstore.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heads++
	o, ok := s.objs[key]
	if !ok {
		return objstore.Object{}, &objstore.Error{Op: "head", Bucket: bucket, Key: key, Kind: objstore.ErrNotFound}
	}
	return s.info(key, o), nil
}

func (s *fakeStore) List(_ context.Context, _, prefix string) iter.Seq2[objstore.Object, error] {
	s.mu.Lock()
	var out []objstore.Object
	for _, k := range slices.Sorted(maps.Keys(s.objs)) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, s.info(k, s.objs[k]))
		}
	}
	s.mu.Unlock()
	return func(yield func(objstore.Object, error) bool) {
		for _, o := range out {
			o.ContentType, o.CacheControl, o.Metadata = "", "", nil // a listing has none
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (s *fakeStore) Delete(_ context.Context, _, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objs, key)
	s.log = append(s.log, "DELETE "+key)
	return nil
}

func (s *fakeStore) DeleteIfMatch(ctx context.Context, bucket, key, etag string) error {
	s.mu.Lock()
	o, ok := s.objs[key]
	s.mu.Unlock()
	if !ok {
		return nil // as in S3: no object, nothing to delete
	}
	if !s.ignoreConditions && o.etag != etag {
		return &objstore.Error{Op: "delete", Bucket: bucket, Key: key, Kind: objstore.ErrPrecondition}
	}
	return s.Delete(ctx, bucket, key)
}

// writes returns the log of writes of site files (not the push's own objects) and clears it.
func (s *fakeStore) writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.log {
		if !strings.Contains(l, "/.spacecast-push") {
			out = append(out, l)
		}
	}
	s.log = nil
	return out
}

func (s *fakeStore) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(slices.Sorted(maps.Keys(s.objs)))
}
