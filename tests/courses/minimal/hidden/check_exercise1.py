# fixture: a file course.yaml names; its content is never read
