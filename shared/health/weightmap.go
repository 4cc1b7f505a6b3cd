package health

import (
	"errors"

	"github.com/mlxk/mlxk/shared/jsonscan"
)

// errIndex marks an index file that is not a JSON object.
var errIndex = errors.New("invalid index")

// errWeightMap marks a valid index whose weight_map is missing, empty or
// not an object of strings.
var errWeightMap = errors.New("invalid weight_map")

// weightMapFiles returns the shard file names an index references: the
// distinct values of its top-level "weight_map" object. Index files list
// every tensor of a model, so this reads them with jsonscan instead of
// building the map.
func weightMapFiles(b []byte) (map[string]bool, error) {
	raw, found, err := jsonscan.TopLevel(b, "weight_map")
	if err != nil {
		return nil, errIndex
	}
	if !found {
		return nil, errWeightMap
	}
	files, ok := jsonscan.StringValues(raw)
	if !ok || len(files) == 0 {
		return nil, errWeightMap
	}
	return files, nil
}
