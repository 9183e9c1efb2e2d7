package awserr

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"ferry.dev/ferry/internal/redact"
)

// Short turns an SDK error into a short one: the service's code and message, or the
// transport's error, without the SDK's operation and request ID preamble, and with a
// configured endpoint's credentials redacted from the URL the transport names.
// Callers match their service's own error types first.
func Short(err error) error {
	err = redact.Error(err)
	var api smithy.APIError
	var resp *awshttp.ResponseError
	var op *smithy.OperationError
	switch {
	case errors.As(err, &api):
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	case errors.As(err, &resp):
		return resp.Err
	case errors.As(err, &op):
		return op.Err
	}
	return err
}
