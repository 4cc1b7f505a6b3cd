module github.com/mlxk/mlxk/mlxk-health

go 1.26
