// Package fsutil answers where a path really is — through symbolic links, ".." and hard links, so
// that a command can tell an output that would land on one of its inputs, or inside a folder it
// must not write to, however the path is spelt — and writes files so they survive a crash: an
// atomic replace, a synced copy, a synced folder (write.go).
package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Resolve returns the absolute, clean path p names with every symbolic link resolved. p need not
// exist: its longest existing ancestor is resolved (filepath.EvalSymlinks) and the rest, which no
// link can be part of, is joined on. A dangling link as the last existing part is followed as far
// as it goes, since writing to it creates its target.
func Resolve(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	cur := p
	if !filepath.IsAbs(cur) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		// Not filepath.Join: it would clean "link/.." away by name, where the kernel goes up from
		// the link's target. EvalSymlinks walks the ".." as the kernel does.
		cur = wd + string(filepath.Separator) + cur
	}
	var rest []string
	for hops := 0; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		// cur may be a dangling link: a write through it creates the link's target.
		if target, lerr := os.Readlink(cur); lerr == nil && hops < 40 {
			hops++
			if !filepath.IsAbs(target) {
				target = parentOf(cur) + string(filepath.Separator) + target
			}
			cur = target
			continue
		}
		parent := parentOf(cur)
		if parent == cur {
			return join(filepath.Clean(cur), rest), nil
		}
		rest = append(rest, cur[len(parent):])
		cur = parent
	}
}

// parentOf is the folder part of p, spelt as in p (not cleaned, so a ".." in it still follows
// links); the root is its own parent.
func parentOf(p string) string {
	p = strings.TrimRight(p, string(filepath.Separator))
	i := strings.LastIndexByte(p, filepath.Separator)
	switch {
	case i < 0:
		return string(filepath.Separator)
	case i == 0:
		return string(filepath.Separator)
	}
	return p[:i]
}

// join appends the reversed rest of a path to base.
func join(base string, rest []string) string {
	for i := len(rest) - 1; i >= 0; i-- {
		base = filepath.Join(base, rest[i])
	}
	return base
}

// Within reports whether the resolved path p is dir itself or lies inside it. Folders are compared
// by identity (os.SameFile), not by name, so a bind mount or a case-insensitive file system that
// spells dir differently still matches. p should come from Resolve.
func Within(p, dir string) bool {
	dst, err := os.Stat(dir)
	if err != nil || !dst.IsDir() {
		return false
	}
	found := false
	Ancestors(p, func(a string) bool {
		if st, err := os.Stat(a); err == nil && os.SameFile(st, dst) {
			found = true
			return false
		}
		return true
	})
	return found
}

// Ancestors calls visit with p and then each folder above it up to the root, as long as visit
// returns true. p should be absolute (from Resolve).
func Ancestors(p string, visit func(dir string) bool) {
	for cur := filepath.Clean(p); ; {
		if !visit(cur) {
			return
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return
		}
		cur = parent
	}
}

// SameFile reports whether a and b both exist and are the same file: the same path through links,
// or two hard links to one inode.
func SameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
