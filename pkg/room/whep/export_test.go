package whep

// BreakMediaForTest closes every session's peer connection but keeps the sessions listed, so a
// viewer sees what a network failure looks like: media and ICE consent stop while the session URL
// still answers.
func (s *Server) BreakMediaForTest() {
	s.mu.Lock()
	var all []*serverSession
	for _, sess := range s.sessions {
		sess.keep = true
		all = append(all, sess)
	}
	s.mu.Unlock()
	for _, sess := range all {
		sess.pc.Close()
	}
}
