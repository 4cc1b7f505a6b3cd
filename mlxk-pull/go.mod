module github.com/mlxk/mlxk/mlxk-pull

go 1.26
