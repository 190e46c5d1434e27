"""Users, password hashing and the login session shared by every app."""
