package janus

import "strconv"

// roster maps Janus participant ids to the identities the recorder reports. Janus gives a person
// a new id when they join again (and every id changes when Janus restarts), so a new id whose
// display name belongs to someone no id stands for right now is that person again: their audio
// continues in the same track.
type roster struct {
	byID  map[string]*person
	byKey map[string]*person // identity → person
	order []*person
}

type person struct {
	identity string
	name     string
	id       string // current Janus id; "" while no id stands for the person
	lastID   string // the id that stood for them last
	in       bool   // reported to the sink as present
}

func newRoster() *roster {
	return &roster{byID: map[string]*person{}, byKey: map[string]*person{}}
}

// up is a participant seen with id and display name; it returns the person and whether they were
// not present before.
func (r *roster) up(id, name string) (p *person, joined bool) {
	if p = r.byID[id]; p == nil {
		p = r.claim(id, name)
		if p == nil {
			p = &person{identity: r.free(id)}
			r.byKey[p.identity] = p
			r.order = append(r.order, p)
		}
		p.id, p.lastID = id, id
		r.byID[id] = p
	}
	if name != "" {
		p.name = name
	}
	joined = !p.in
	p.in = true
	return p, joined
}

// claim finds the person no id stands for whom id stood for last (a publisher publishing again),
// else the one named name: present ones first (a reconnect), then the latest of those who left.
func (r *roster) claim(id, name string) *person {
	for _, p := range r.order {
		if p.id == "" && p.lastID == id {
			return p
		}
	}
	if name == "" {
		return nil
	}
	var gone *person
	for _, p := range r.order {
		if p.id != "" || p.name != name {
			continue
		}
		if p.in {
			return p
		}
		gone = p
	}
	return gone
}

// free returns id as an identity, or id with a suffix when an earlier person already has it.
func (r *roster) free(id string) string {
	if id == "" {
		id = "participant"
	}
	if r.byKey[id] == nil {
		return id
	}
	for n := 2; ; n++ {
		if s := id + "-" + strconv.Itoa(n); r.byKey[s] == nil {
			return s
		}
	}
}

// down is the participant with id gone; it returns the person if they were present.
func (r *roster) down(id string) *person {
	p := r.byID[id]
	if p == nil {
		return nil
	}
	delete(r.byID, id)
	p.id = ""
	if !p.in {
		return nil
	}
	p.in = false
	return p
}

// lookup returns the person id stands for, or nil.
func (r *roster) lookup(id string) *person { return r.byID[id] }

// forget drops every id (a new session: ids start over) but keeps who is present.
func (r *roster) forget() {
	for id, p := range r.byID {
		p.id = ""
		delete(r.byID, id)
	}
}

// sweep returns the people still marked present whom no id stands for, and marks them gone.
func (r *roster) sweep() []*person {
	var gone []*person
	for _, p := range r.order {
		if p.in && p.id == "" {
			p.in = false
			gone = append(gone, p)
		}
	}
	return gone
}
