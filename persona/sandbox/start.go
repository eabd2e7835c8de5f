package sandbox

import "fmt"

// Start submits the first step of a created inquiry's flow, as a person would, so it becomes
// pending; for other packages' tests.
func (s *Sandbox) Start(inquiryID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.inquiries[inquiryID]
	if q == nil {
		return fmt.Errorf("sandbox: inquiry %s not found", inquiryID)
	}
	s.checkExpiry(q)
	if q.status != "created" {
		return fmt.Errorf("sandbox: inquiry %s is %s, not created", inquiryID, q.status)
	}
	s.submitStep(q, true, stepInput{})
	return nil
}
