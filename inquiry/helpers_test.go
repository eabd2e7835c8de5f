package inquiry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// env is the service over a real SQLite file and the real client against the sandbox over HTTP.
type env struct {
	svc *Service
	db  *db.DB
	sb  *sandbox.Sandbox
	url string // the sandbox's base URL
}

var agent = model.Actor{ID: 0, Name: "Ann Agent"}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := testkit.OpenDB(t)
	sb, url := sandboxkit.Start(t, sandbox.Options{RetryScale: 0.001})
	st := Settings{
		APIKey: sandbox.DefaultAPIKey, APIBaseURL: url + "/api/v1", HostedURL: url, Dev: true,
		EnvironmentID: sandbox.EnvironmentID, BackoffBase: time.Millisecond, MaxRetryElapsed: 2 * time.Second,
	}
	svc := New(d, st, testkit.Discard(), Deps{})
	if err := svc.RegisterTemplates(context.Background(), []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, db: d, sb: sb, url: url}
}

func alexander(key string) CreateInput {
	return CreateInput{
		TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_ABC123", Key: key,
		Fields: map[string]string{"name-first": "Alexander", "name-last": "Sample", "birthdate": "1977-08-31"},
	}
}

func (e *env) create(t *testing.T, in CreateInput) *CreateResult {
	t.Helper()
	res, err := e.svc.Create(context.Background(), agent, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return res
}

func dbAudit(target string) db.AuditFilter { return db.AuditFilter{Target: target} }

func dbRequest(key string, in CreateInput) db.InquiryRequest {
	return db.InquiryRequest{Key: key, ReferenceID: in.ReferenceID, TemplateID: in.TemplateID, Params: createParams(in)}
}

// changeLog is a Publisher that records the ids it is told, in order.
type changeLog struct {
	mu  sync.Mutex
	ids []string
}

func (c *changeLog) Publish(id string) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
}

// take returns the ids recorded so far and forgets them.
func (c *changeLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	c.ids = nil
	return ids
}
