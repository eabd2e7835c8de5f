package bulk

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
)

// ResultColumns is the header of the results CSV.
var ResultColumns = []string{"line", "reference_id", "check", "outcome", "detail", "inquiry_id", "link"}

// WriteResults writes the job's rows with their outcomes as CSV.
func (e *Engine) WriteResults(ctx context.Context, w io.Writer, id int64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ResultColumns); err != nil {
		return err
	}
	err := e.db.BulkRows(ctx, id, func(r db.BulkRow) error {
		return cw.Write(csvsafe.Row(strconv.Itoa(r.Line), r.ReferenceID, r.Class, r.State, r.Detail, r.InquiryID, r.Link))
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
