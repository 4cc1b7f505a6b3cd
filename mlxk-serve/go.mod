module github.com/mlxk/mlxk/mlxk-serve

go 1.26
