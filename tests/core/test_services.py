import pytest

from pyramid_polydatum import (
    AlreadyExistsException,
    DataManager,
    InvalidName,
    NoActiveContext,
    NotFound,
    Service,
    ServiceNotInitialized,
)


class Users(Service):
    def __init__(self):
        super().__init__()
        self.rows = {1: "ann"}

    def get(self, user_id):
        return self.rows.get(user_id)

    def rename(self, user_id, name):
        if user_id not in self.rows:
            raise NotFound(f"user {user_id}")
        self.rows[user_id] = name

    def whoami(self):
        return self._ctx.meta.user


class Profiles(Service):
    def bio(self, user_id):
        return f"bio of {self._dal.users.get(user_id)}"


def make_dm():
    users = Users().register_services(profile=Profiles())
    return DataManager().register_services(users=users)


def test_services_are_reached_through_the_dal_in_a_context():
    dm = make_dm()
    with dm.dal(meta={"user": "ann"}) as dal:
        assert dal.users.get(1) == "ann"
        assert dal.users.get(2) is None
        assert dal.users.whoami() == "ann"


def test_dal_returns_the_registered_service_object():
    users = Users()
    dm = DataManager().register_services(users=users)
    with dm.dal() as dal:
        assert dal.users is users


def test_nested_services_and_dotted_paths():
    dm = make_dm()
    with dm.dal() as dal:
        assert dal.users.profile.bio(1) == "bio of ann"
        assert dal["users.profile"] is dal.users.profile
        assert dal["dal.users.profile.bio"](1) == "bio of ann"
        with pytest.raises(AttributeError):
            dal["users.nothing"]


def test_service_internals_point_at_manager_and_context():
    dm = make_dm()
    with dm.context() as ctx:
        users = ctx.dal.users
        assert users._data_manager is dm
        assert users._dal is ctx.dal
        assert users._ctx is ctx
        assert users.service is dm.get_dal().users
        assert users.profile._data_manager is dm


def test_touching_the_dal_without_a_context_is_a_clear_error():
    dm = make_dm()
    dal = dm.get_dal()
    with pytest.raises(NoActiveContext, match=r"dal\.users"):
        dal.users
    with pytest.raises(NoActiveContext):
        dal["users.profile"]


def test_service_ctx_without_a_context_is_a_clear_error():
    dm = make_dm()
    with dm.dal() as dal:
        users = dal.users
    with pytest.raises(NoActiveContext):
        users.whoami()


def test_unknown_service_is_an_attribute_error_naming_the_registered_ones():
    dm = make_dm()
    with dm.dal() as dal:
        with pytest.raises(AttributeError, match="registered: users"):
            dal.orders


def test_registering_a_taken_name_raises():
    dm = make_dm()
    with pytest.raises(AlreadyExistsException, match="'users'"):
        dm.register_services(users=Users())
    with pytest.raises(AlreadyExistsException, match="'profile'"):
        Users().register_services(profile=Profiles()).register_services(profile=Profiles())


@pytest.mark.parametrize("name", ["register_services", "_private", "not-an-identifier", "class"])
def test_invalid_service_names_are_refused(name):
    with pytest.raises(InvalidName):
        DataManager().register_services(**{name: Users()})


def test_replace_service_swaps_the_implementation():
    dm = make_dm()

    class FakeUsers(Users):
        def get(self, user_id):
            return "fake"

    fake = dm.replace_service("users", FakeUsers())
    with dm.dal() as dal:
        assert dal.users is fake
        assert dal.users.get(1) == "fake"


def test_not_found_is_raised_by_methods_that_depend_on_a_missing_object():
    dm = make_dm()
    with dm.dal() as dal:
        with pytest.raises(NotFound):
            dal.users.rename(99, "bob")


def test_forgetting_super_init_is_a_clear_error_not_a_recursion_error():
    class Forgetful(Service):
        def __init__(self):
            self.cache = {}

        def get(self):
            return self._ctx

    with pytest.raises(ServiceNotInitialized, match=r"super\(\).__init__\(\)"):
        DataManager().register_services(forgetful=Forgetful())
    with pytest.raises(ServiceNotInitialized, match=r"super\(\).__init__\(\)"):
        Forgetful().get()


def test_unregistered_service_has_no_context():
    with pytest.raises(ServiceNotInitialized, match="not registered"):
        Users().whoami()
