module github.com/mlxk/mlxk/mlxk-list

go 1.26
