package route53

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"ferry.dev/ferry/internal/redact"
)

// explain turns an SDK error into a short one: the service's code and message, or the
// transport's error, without the SDK's operation and request ID preamble, and with a
// configured endpoint's credentials redacted from the URL the transport names.
func (r *Router) explain(err error) error {
	err = redact.Error(err)
	var noZone *types.NoSuchHostedZone
	var batch *types.InvalidChangeBatch
	var api smithy.APIError
	var resp *awshttp.ResponseError
	var op *smithy.OperationError
	switch {
	case errors.As(err, &noZone):
		return fmt.Errorf("%w: %s", ErrHostedZoneNotFound, r.cfg.HostedZoneID)
	case errors.As(err, &batch):
		return fmt.Errorf("change batch refused: %s", strings.Join(batch.Messages, "; "))
	case errors.As(err, &api):
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	case errors.As(err, &resp):
		return resp.Err
	case errors.As(err, &op):
		return op.Err
	}
	return err
}
