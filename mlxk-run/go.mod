module github.com/mlxk/mlxk/mlxk-run

go 1.26
